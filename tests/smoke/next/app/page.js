import { Status } from './status.js';

export default function Page() {
  return (
    <main>
      <Status />
      <button data-pqlkit-feature="export">Export report</button>
    </main>
  );
}
