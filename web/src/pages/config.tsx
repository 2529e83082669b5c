export function ConfigPage() { return <p>todo</p>; }
