export function Sessions() { return <p>todo</p>; }
