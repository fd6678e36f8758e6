import { Page, Empty } from "../ui/kit";

export default function Explorer() {
  return (
    <Page title="Explorer">
      <Empty title="Being built" />
    </Page>
  );
}
