import { Page, Empty } from "../ui/kit";

export default function Deploy() {
  return (
    <Page title="Deploy">
      <Empty title="Being built" />
    </Page>
  );
}
