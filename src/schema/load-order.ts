/**
 * Load order over foreign-key edges. A table must be loaded after every table it points at,
 * unless no order can do that: a self-reference (`categories.parent_id → categories`) or a
 * cycle (`users.favorite_order → orders`, `orders.user_id → users`). Those edges are
 * "cycle breakers": their constraints are created after the load instead.
 *
 * Algorithm: strongly connected components (Tarjan) find every edge inside a cycle; all
 * *reference* edges inside a component are breakers (parent→child edges never are: a child's
 * parent is an earlier table of the same collection, so they form a forest). What remains is
 * acyclic, and Kahn's algorithm orders it, always taking the ready table that comes first in
 * the plan, so the order is deterministic and stays close to how the user wrote the plan.
 */

/** "`from` must be loaded after `to`." */
export interface DependencyEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'parent' | 'reference';
}

export interface LoadOrder {
  readonly order: readonly string[];
  /** Edges (by index into the input) that close a cycle and cannot be honoured by ordering. */
  readonly cycleBreakers: ReadonlySet<number>;
}

/**
 * Order `tables` so that every edge that is not a cycle breaker points backwards.
 *
 * @example
 * loadOrder(['orders', 'users'], [
 *   { from: 'orders', to: 'users', kind: 'reference' },
 *   { from: 'users', to: 'orders', kind: 'reference' },
 * ])
 * // { order: ['orders', 'users'], cycleBreakers: Set {0, 1} }
 */
export function loadOrder(tables: readonly string[], edges: readonly DependencyEdge[]): LoadOrder {
  const component = stronglyConnected(tables, edges);
  const cycleBreakers = new Set<number>();
  edges.forEach((edge, i) => {
    if (edge.kind === 'reference' && component.get(edge.from) === component.get(edge.to))
      cycleBreakers.add(i);
  });

  const position = new Map(tables.map((t, i) => [t, i]));
  const waitingOn = new Map(tables.map((t) => [t, new Set<string>()]));
  const dependents = new Map(tables.map((t) => [t, [] as string[]]));
  edges.forEach((edge, i) => {
    if (cycleBreakers.has(i) || edge.from === edge.to) return;
    waitingOn.get(edge.from)?.add(edge.to);
    dependents.get(edge.to)?.push(edge.from);
  });

  const order: string[] = [];
  const ready = tables.filter((t) => waitingOn.get(t)?.size === 0);
  while (ready.length > 0) {
    ready.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
    const next = ready.shift()!;
    order.push(next);
    for (const dependent of dependents.get(next) ?? []) {
      const waits = waitingOn.get(dependent);
      if (waits === undefined || !waits.delete(next)) continue;
      if (waits.size === 0) ready.push(dependent);
    }
  }
  if (order.length !== tables.length) {
    // Only parent edges remain, and a valid plan's parents form a forest; this is a bug.
    const stuck = tables.filter((t) => !order.includes(t));
    throw new Error(`load order: parent links form a cycle through ${stuck.join(', ')}`);
  }
  return { order, cycleBreakers };
}

/** Tarjan's algorithm, iterative so a long chain of tables cannot overflow the stack. */
function stronglyConnected(tables: readonly string[], edges: readonly DependencyEdge[]): Map<string, number> {
  const next = new Map<string, string[]>(tables.map((t) => [t, []]));
  for (const edge of edges) next.get(edge.from)?.push(edge.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const component = new Map<string, number>();
  let counter = 0;
  let components = 0;

  for (const root of tables) {
    if (index.has(root)) continue;
    const work: { node: string; child: number }[] = [{ node: root, child: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = next.get(frame.node) ?? [];
      if (frame.child < targets.length) {
        const target = targets[frame.child++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, child: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.set(member, components);
        } while (member !== frame.node);
        components++;
      }
    }
  }
  return component;
}
