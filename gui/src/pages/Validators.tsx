import { Page, Empty } from "../ui/kit";

export default function Validators() {
  return (
    <Page title="Validators">
      <Empty title="Being built" />
    </Page>
  );
}
