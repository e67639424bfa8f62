// Rendered on the server first: importing pqlkit there must not crash. `init` runs on the client.
import { Pqlkit } from './pqlkit.js';

export default function Page() {
  return (
    <main>
      <Pqlkit />
      <button data-pqlkit-feature="export">Export report</button>
    </main>
  );
}
