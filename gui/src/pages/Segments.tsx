import { Page, Empty } from "../ui/kit";

export default function Segments() {
  return (
    <Page title="Segments">
      <Empty title="Being built" />
    </Page>
  );
}
