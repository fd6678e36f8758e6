import { Page, Empty } from "../ui/kit";

export default function Reshaping() {
  return (
    <Page title="Reshaping">
      <Empty title="Being built" />
    </Page>
  );
}
