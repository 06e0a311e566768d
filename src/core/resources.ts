// Host resources held for one job, released together in reverse order of acquisition, on every path.

/**
 * What `using` releases at the end of a scope: every resource held, newest first (a stream before the socket or
 * body it belongs to). The part of DisposableStack the component needs, so it never depends on the engine having it.
 */
export class Resources implements Disposable {
  #held: Disposable[] = [];

  /** Holds `resource` until this is disposed (or `release` lets it go earlier); returns it. */
  hold<T extends Disposable>(resource: T): T {
    this.#held.push(resource);
    return resource;
  }

  /** Releases one held resource now, before the others. */
  release(resource: Disposable): void {
    const i = this.#held.lastIndexOf(resource);
    if (i !== -1) this.#held.splice(i, 1);
    resource[Symbol.dispose]();
  }

  [Symbol.dispose](): void {
    while (this.#held.length > 0) this.#held.pop()?.[Symbol.dispose]();
  }
}
