// The frame the PAM suites share: the test users held and one TestSite made before all tests,
// every service written through the suite removed and everything released after them, and the
// named users' ~/.chos files removed after each test. Call pamSuite at a test file's top level
// (it registers jest hooks).
import { removeService, writeService } from "./pam";
import { TestSite, TREES_TIMEOUT_MS } from "./site";
import { acquireTestUsers, removeChosFiles } from "./users";

export interface PamSuite {
  /** The suite's site (valid once beforeAll has run). */
  readonly site: TestSite;
  /** Writes a service (writeService) that is removed after the suite. */
  service(args: readonly string[], before?: readonly string[]): string;
}

/** Registers the hooks; CHOS_USERS are the users whose ~/.chos a test may write. */
export function pamSuite(chosUsers: readonly string[]): PamSuite {
  let site: TestSite | undefined;
  let releaseUsers: (() => void) | undefined;
  const services: string[] = [];

  beforeAll(async () => {
    releaseUsers = acquireTestUsers();
    site = await TestSite.create();
  }, TREES_TIMEOUT_MS);

  afterAll(() => {
    for (const s of services) removeService(s);
    site?.close();
    releaseUsers?.();
  });

  afterEach(() => removeChosFiles(chosUsers));

  return {
    get site(): TestSite {
      if (!site) throw new Error("the suite site is made in beforeAll");
      return site;
    },
    service(args, before = []) {
      const name = writeService(args, before);
      services.push(name);
      return name;
    },
  };
}
