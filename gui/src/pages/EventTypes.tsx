import { Page, Empty } from "../ui/kit";

export default function EventTypes() {
  return (
    <Page title="EventTypes">
      <Empty title="Being built" />
    </Page>
  );
}
