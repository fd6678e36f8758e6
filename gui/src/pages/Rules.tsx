import { Page, Empty } from "../ui/kit";

export default function Rules() {
  return (
    <Page title="Rules">
      <Empty title="Being built" />
    </Page>
  );
}
