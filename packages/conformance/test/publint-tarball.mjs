/**
 * publint --strict on one packed tarball (argv[2]), through publint's API: prints every
 * message (errors, warnings and suggestions) and exits 1 if there is any.
 */
import { readFileSync } from "node:fs";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const bytes = readFileSync(process.argv[2]);
const tarball = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const { messages, pkg } = await publint({ pack: { tarball }, strict: true, level: "suggestion" });
for (const m of messages) process.stdout.write(`${m.type}: ${formatMessage(m, pkg)}\n`);
process.exitCode = messages.length ? 1 : 0;
