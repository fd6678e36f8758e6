import { Page, Empty } from "../ui/kit";

export default function FlowEditor() {
  return (
    <Page title="FlowEditor">
      <Empty title="Being built" />
    </Page>
  );
}
