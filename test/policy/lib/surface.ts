// The global surface of a QuickJS context, as one JS expression both engines can evaluate: every
// global name, and the own property names of each global object, its prototype, and the
// prototypes of the iterator and function kinds a policy can reach without a global name.
// The WASM harness's parity prelude is derived from the difference between the two engines'
// surfaces, and test/policy/parity.test.ts proves that, after the prelude, they are equal.
export const SURFACE_EXPRESSION = `(() => {
  const out = [];
  const seen = new Set();
  const add = (label, object) => {
    if (object === null || (typeof object !== "object" && typeof object !== "function") || seen.has(object)) return;
    seen.add(object);
    for (const key of Reflect.ownKeys(object)) out.push(label + "." + String(key));
  };
  for (const name of Reflect.ownKeys(globalThis)) {
    const name_ = String(name);
    if (name_ === "__chos" || name_ === "__surface") continue;
    out.push(name_);
    const value = globalThis[name];
    if (value === globalThis) continue;
    add(name_, value);
    if (typeof value === "function") add(name_ + ".prototype", value.prototype);
  }
  const reach = {
    ArrayIterator: Object.getPrototypeOf([][Symbol.iterator]()),
    IteratorPrototype: Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
    GeneratorFunction: Object.getPrototypeOf(function* () {}),
    AsyncFunction: Object.getPrototypeOf(async function () {}),
    AsyncGeneratorFunction: Object.getPrototypeOf(async function* () {}),
    RegExpStringIterator: Object.getPrototypeOf("a".matchAll(/a/g)),
  };
  for (const [label, object] of Object.entries(reach)) add(label, object);
  return out.sort();
})()`;
