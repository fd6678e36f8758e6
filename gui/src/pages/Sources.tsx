import { Page, Empty } from "../ui/kit";

export default function Sources() {
  return (
    <Page title="Sources">
      <Empty title="Being built" />
    </Page>
  );
}
