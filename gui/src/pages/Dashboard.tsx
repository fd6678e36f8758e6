import { Page, Empty } from "../ui/kit";

export default function Dashboard() {
  return (
    <Page title="Dashboard">
      <Empty title="Being built" />
    </Page>
  );
}
