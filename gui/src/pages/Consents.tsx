import { Page, Empty } from "../ui/kit";

export default function Consents() {
  return (
    <Page title="Consents">
      <Empty title="Being built" />
    </Page>
  );
}
