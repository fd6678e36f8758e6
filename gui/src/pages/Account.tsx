import { Page, Empty } from "../ui/kit";

export default function Account() {
  return (
    <Page title="Account">
      <Empty title="Being built" />
    </Page>
  );
}
