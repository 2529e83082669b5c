export function Audit() { return <p>todo</p>; }
