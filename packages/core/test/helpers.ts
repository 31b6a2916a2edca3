import { fileURLToPath } from "node:url";

/** The repository's fixtures folder (tests never read ../shared). */
export const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
