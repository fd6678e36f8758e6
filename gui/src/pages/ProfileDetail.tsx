import { Page, Empty } from "../ui/kit";

export default function ProfileDetail() {
  return (
    <Page title="ProfileDetail">
      <Empty title="Being built" />
    </Page>
  );
}
