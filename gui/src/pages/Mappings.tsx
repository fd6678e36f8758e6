import { Page, Empty } from "../ui/kit";

export default function Mappings() {
  return (
    <Page title="Mappings">
      <Empty title="Being built" />
    </Page>
  );
}
