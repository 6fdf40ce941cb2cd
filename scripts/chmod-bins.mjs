// Makes the bins executable after tsc (tsc does not keep the mode bit).
import { chmodSync, existsSync } from 'node:fs';
for (const bin of ['ccmsetup-sim.js', 'bulkregtoken-sim.js', 'ccmsim.js', 'ccmsim-launch.cjs']) {
  const path = new URL(`../dist/cli/${bin}`, import.meta.url);
  if (existsSync(path)) chmodSync(path, 0o755);
}
