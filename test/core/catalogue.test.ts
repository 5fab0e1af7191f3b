// The catalogue parser (pam/core/facts/catalogue.c) through parseCatalogue: the seed's format, and an
// exact error naming the file and line for every kind of malformed line.
import * as path from "node:path";
import { ALICE, native, SEED_CATALOGUE, withDir, writeCatalogue } from "./lib";

function parse(text: string): ReturnType<typeof native.parseCatalogue> {
  return withDir((dir) => native.parseCatalogue(writeCatalogue(dir, text)));
}

function parseError(text: string): string {
  return withDir((dir) => {
    const file = writeCatalogue(dir, text);
    try {
      native.parseCatalogue(file);
    } catch (e) {
      return (e as Error).message.replace(file, "FILE");
    }
    throw new Error("parsed without error");
  });
}

describe("catalogue", () => {
  test("the seed format parses: %SHELLS entries in order, comments and other sections ignored", () => {
    expect(parse(SEED_CATALOGUE)).toEqual([
      { name: "default", path: "/" },
      { name: "sl7", path: "/os/sl7" },
      { name: "el9", path: "/os/el9" },
    ]);
  });

  test("blanks, CRLF line ends, indentation, a comment after a section name and a second %SHELLS section are accepted", () => {
    expect(parse("\r\n# c\n%SHELLS\r\n  a.b_c-1:/x \r\n%ENV\nnot:an entry\n%SHELLS\t# more\nb:/y")).toEqual([
      { name: "a.b_c-1", path: "/x" },
      { name: "b", path: "/y" },
    ]);
  });

  test("an empty catalogue lists nothing", () => {
    expect(parse("# nothing here\n")).toEqual([]);
  });

  test("trees are not checked for existence when parsing", () => {
    expect(parse("%SHELLS\nghost:/does/not/exist\n")).toEqual([{ name: "ghost", path: "/does/not/exist" }]);
  });

  test("each malformed line is an error naming the file and the line", () => {
    expect(parseError("%SHELLS\ndefault:/\nsl7 /os/sl7\n")).toBe('FILE: line 3: expected NAME:PATH, got "sl7 /os/sl7"');
    expect(parseError("%SHELLS\nsl 7:/os\n")).toBe(
      "FILE: line 2: invalid environment name \"sl 7\" (letters, digits, '.', '_', '-'; at most 64)",
    );
    expect(parseError("%SHELLS\n..:/os\n")).toMatch(/^FILE: line 2: invalid environment name "\.\."/);
    expect(parseError("%SHELLS\n:/os\n")).toMatch(/^FILE: line 2: invalid environment name ""/);
    expect(parseError(`%SHELLS\n${"n".repeat(65)}:/os\n`)).toMatch(
      /^FILE: line 2: invalid environment name "n{48}\.\.\."/,
    );
    expect(parseError("%SHELLS\nsl7:os/sl7\n")).toBe('FILE: line 2: the path of "sl7" must be absolute');
    expect(parseError("%SHELLS\nsl7:\n")).toBe('FILE: line 2: the path of "sl7" must be absolute');
    expect(parseError("%SHELLS\nsl7:/os/\u0001x\n")).toBe(
      'FILE: line 2: the path of "sl7" contains a control character',
    );
    expect(parseError("%SHELLS\na:/x\n\nb:/y\na:/z\n")).toBe(
      'FILE: line 5: duplicate environment "a" (first on line 2)',
    );
    expect(parseError("# header\ndefault:/\n%SHELLS\n")).toBe(
      "FILE: line 2: entry before any section (expected %SHELLS first)",
    );
    expect(parseError("%SHELLS\na:/x\0y\n")).toBe("FILE: line 2: contains a NUL byte");
    expect(parseError("%SHELLS\nbad\u001bname\n")).toBe('FILE: line 2: expected NAME:PATH, got "bad?name"');
  });

  test.each([
    [".sqfs", "squashfs"],
    [".erofs", "erofs"],
  ])("an entry ending in %s is an image of %s; sha256= pins its digest", (suffix, filesystem) => {
    const hex = "0123456789abcdef".repeat(4);
    expect(parse(`%SHELLS\na:/img/a${suffix}\nb:/img/b${suffix}  sha256=${hex.toUpperCase()} \nc:/os/c\n`)).toEqual([
      { name: "a", path: `/img/a${suffix}`, image: filesystem },
      { name: "b", path: `/img/b${suffix}`, image: filesystem, sha256: hex },
      { name: "c", path: "/os/c" },
    ]);
  });

  test("only the suffix makes an image: a name that merely contains one, or ends in another, is a directory", () => {
    expect(parse("%SHELLS\na:/img/a.sqfs.d\nb:/img/b.erofs/\nc:/img/c.squashfs\nd:/img/.erofs\n")).toEqual([
      { name: "a", path: "/img/a.sqfs.d" },
      { name: "b", path: "/img/b.erofs/" },
      { name: "c", path: "/img/c.squashfs" },
      { name: "d", path: "/img/.erofs", image: "erofs" },
    ]);
  });

  test("each malformed option is an error naming the line: a path ends at the first blank", () => {
    const hex = "a".repeat(64);
    expect(parseError("%SHELLS\nx:/os/my tree\n")).toBe(
      'FILE: line 2: unknown option "tree" for "x" (a path ends at the first blank; the only option is sha256=HEX)',
    );
    expect(parseError(`%SHELLS\nx:/os/x sha256=${hex}\n`)).toBe(
      'FILE: line 2: sha256= pins an image (a path ending in .sqfs or .erofs), not the directory of "x"',
    );
    expect(parseError("%SHELLS\nx:/i/x.sqfs sha256=abc\n")).toBe(
      'FILE: line 2: the sha256 of "x" must be 64 hex digits',
    );
    expect(parseError(`%SHELLS\nx:/i/x.sqfs sha256=${"g".repeat(64)}\n`)).toBe(
      'FILE: line 2: the sha256 of "x" must be 64 hex digits',
    );
    expect(parseError(`%SHELLS\nx:/i/x.sqfs sha256=${hex} sha256=${hex}\n`)).toBe(
      'FILE: line 2: "x" has two sha256= options',
    );
  });

  test("a catalogue larger than 1 MiB is refused unparsed", () =>
    withDir((dir) => {
      const file = writeCatalogue(dir, `%SHELLS\n${"#".repeat(1 << 20)}`);
      expect(() => native.parseCatalogue(file)).toThrow(`${file}: larger than 1048576 bytes`);
    }));

  test("decide() refuses a malformed catalogue with the same error", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir, "%SHELLS\nbroken\n");
      expect(() => native.decide({ bundle: path.join(dir, "none.js"), catalogue, context: ALICE })).toThrow(
        `${catalogue}: line 2: expected NAME:PATH, got "broken"`,
      );
    }));
});
