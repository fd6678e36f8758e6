import { Page, Empty } from "../ui/kit";

export default function Audit() {
  return (
    <Page title="Audit">
      <Empty title="Being built" />
    </Page>
  );
}
