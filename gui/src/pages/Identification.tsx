import { Page, Empty } from "../ui/kit";

export default function Identification() {
  return (
    <Page title="Identification">
      <Empty title="Being built" />
    </Page>
  );
}
