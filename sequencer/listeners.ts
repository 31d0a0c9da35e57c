// A list of listeners to one kind of node event. `emit` calls each on a copy of the list (a
// listener may unsubscribe while being called) and catches what one throws, so a failing
// listener never stops the others or the block/rollback that emits. It never awaits a listener.

export class Listeners<A extends unknown[]> {
  private readonly list: Array<(...args: A) => void> = [];

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Add `f`; returns the function that removes it. */
  add(f: (...args: A) => void): () => void {
    this.list.push(f);
    return () => {
      const i = this.list.indexOf(f);
      if (i >= 0) this.list.splice(i, 1);
    };
  }

  emit(...args: A): void {
    for (const l of [...this.list]) {
      try {
        l(...args);
      } catch (e) {
        this.onError(e);
      }
    }
  }
}
