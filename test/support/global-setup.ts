// Builds the component once per test run when its inputs changed, so every end-to-end test drives current code.
import { build } from '../../scripts/build.mjs';

export default async function setup(): Promise<void> {
  await build({ ifStale: true });
}
