import { Page, Empty } from "../ui/kit";

export default function EventTester() {
  return (
    <Page title="EventTester">
      <Empty title="Being built" />
    </Page>
  );
}
