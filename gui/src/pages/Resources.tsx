import { Page, Empty } from "../ui/kit";

export default function Resources() {
  return (
    <Page title="Resources">
      <Empty title="Being built" />
    </Page>
  );
}
