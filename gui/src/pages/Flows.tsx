import { Page, Empty } from "../ui/kit";

export default function Flows() {
  return (
    <Page title="Flows">
      <Empty title="Being built" />
    </Page>
  );
}
