/**
 * `{...base, ...fields}` without V8's slow path: in Node 20 an object spread followed by more
 * properties gives every result a hidden class of its own (~2.5 µs an object, and garbage the GC
 * must trace), which was a third of the CPU of a 1,000-entry history batch. `Object.assign` onto a
 * fresh object gives the same result at ~0.2 µs. Use it where records are built in bulk.
 */
export function withFields<B extends object, const F extends object>(base: B, fields: F): B & F {
  return Object.assign({}, base, fields);
}
