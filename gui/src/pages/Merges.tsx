import { Page, Empty } from "../ui/kit";

export default function Merges() {
  return (
    <Page title="Merges">
      <Empty title="Being built" />
    </Page>
  );
}
