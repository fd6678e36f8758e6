import { Page, Empty } from "../ui/kit";

export default function Destinations() {
  return (
    <Page title="Destinations">
      <Empty title="Being built" />
    </Page>
  );
}
