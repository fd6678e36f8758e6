import { Page, Empty } from "../ui/kit";

export default function Settings() {
  return (
    <Page title="Settings">
      <Empty title="Being built" />
    </Page>
  );
}
