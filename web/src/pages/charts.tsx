export function Charts() { return <p>todo</p>; }
