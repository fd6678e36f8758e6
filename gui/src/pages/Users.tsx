import { Page, Empty } from "../ui/kit";

export default function Users() {
  return (
    <Page title="Users">
      <Empty title="Being built" />
    </Page>
  );
}
