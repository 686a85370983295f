/** A governance policy and requests the multi-agent tests share. */

/** Denies every write to the cluster configuration: easy to observe on any agent. */
export const READ_ONLY_CONFIG_POLICY = {
  policyId: 'no-config-writes',
  name: 'Configuration is read-only',
  description: 'writes to the cluster configuration are refused',
  type: 'access',
  expression: 'operation == "write" && resource.path == "/v1/config"',
  action: 'deny',
  priority: 100,
  isEnabled: true,
} as const;

/** Registers a policy through an agent's API. */
export function addPolicy(agentUrl: string, policy: object): Promise<Response> {
  return fetch(`${agentUrl}/v1/governance/policies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(policy),
  });
}

/** Writes one configuration key through an agent's API. */
export function putConfig(agentUrl: string, key: string, value: string): Promise<Response> {
  return fetch(`${agentUrl}/v1/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key, value }),
  });
}
