// The parity prelude: run in every WASM context before the bundle, it makes the WASM QuickJS
// (2025-09-13, from quickjs-emscripten) offer a policy what the C sandbox (QuickJS 2025-04-26,
// pam/core/policy/policy_runtime.c) offers, no more. What it removes was measured, not guessed:
// test/policy/parity.test.ts lists both engines' global surfaces (test/policy/lib/surface.ts)
// and proves them equal after this prelude, so a newer engine on either side fails that test.
//
// What it cannot hide: syntax (a /x/v regexp literal parses in WASM only) and the C engine's
// two internal leftovers, Object.__getClass and String.prototype.__quote, which WASM lacks
// (the parity test lists them); a policy using either faults in one engine only, and
// `chos-policy test` reports that as the engines disagreeing.
//
// eval: quickjs-emscripten cannot run a script without the Eval intrinsic, which the C sandbox
// never adds. The prelude removes the `eval` global (C removes it too) and makes the Function
// constructors throw what QuickJS throws without that intrinsic.
export const PARITY_PRELUDE = `(() => {
  "use strict";
  delete globalThis.eval;
  const noEval = () => { throw new TypeError("eval is not supported"); };
  const kinds = [
    Function.prototype,
    Object.getPrototypeOf(function* () {}),
    Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf(async function* () {}),
  ];
  for (const proto of kinds) {
    const real = proto.constructor;
    const fake = function () { return noEval(); };
    Object.setPrototypeOf(fake, Object.getPrototypeOf(real));
    Object.defineProperty(fake, "name", { value: real.name });
    Object.defineProperty(fake, "length", { value: real.length });
    Object.defineProperty(fake, "prototype", { value: proto });
    Object.defineProperty(proto, "constructor", { ...Object.getOwnPropertyDescriptor(proto, "constructor"), value: fake });
  }
  Object.defineProperty(globalThis, "Function", { ...Object.getOwnPropertyDescriptor(globalThis, "Function"), value: Function.prototype.constructor });

  // Newer than 2025-04-26: the Iterator global and the iterator helpers, Set methods,
  // getOrInsert, Error.isError, Math.f16round/sumPrecise, Promise.try, RegExp.escape and the v
  // flag's getter.
  const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  for (const key of Reflect.ownKeys(iteratorPrototype)) {
    if (key !== Symbol.iterator) delete iteratorPrototype[key];
  }
  delete globalThis.Iterator;
  for (const key of ["difference", "intersection", "isDisjointFrom", "isSubsetOf", "isSupersetOf", "symmetricDifference", "union"]) {
    delete Set.prototype[key];
  }
  for (const key of ["getOrInsert", "getOrInsertComputed"]) {
    delete Map.prototype[key];
    delete WeakMap.prototype[key];
  }
  delete Error.isError;
  delete Promise.try;
  delete Math.f16round;
  delete Math.sumPrecise;
  delete RegExp.escape;
  delete RegExp.prototype.unicodeSets;
})();`;
