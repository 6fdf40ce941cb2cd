// Makes the three bins executable after tsc (tsc does not keep the mode bit).
import { chmodSync, existsSync } from 'node:fs';
for (const bin of ['ccmsetup-sim', 'bulkregtoken-sim', 'ccmsim']) {
  const path = new URL(`../dist/cli/${bin}.js`, import.meta.url);
  if (existsSync(path)) chmodSync(path, 0o755);
}
