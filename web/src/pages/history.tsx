export function History() { return <p>todo</p>; }
