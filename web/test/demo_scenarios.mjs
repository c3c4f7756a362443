export async function demoScenarios() { return {}; }
