/** Reading synthesized templates in the CDK tests: logical ids, a function's grants, dashboard bodies, nag reports. */
import { CfnElement, Stack, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/** The logical id of a construct's CloudFormation resource. */
export function resourceIdOf(stack: Stack, construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  if (!(resource instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource of its own.`);
  return stack.getLogicalId(resource);
}

export interface Grant {
  readonly actions: readonly string[];
  readonly conditions?: unknown;
}

/** A resource as the tests name it: `arn:<logical id>` for a `Fn::GetAtt` of an ARN, else the ARN itself. */
function resourceName(resource: unknown): string {
  if (typeof resource === 'string') return resource;
  const getAtt = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt?.[1] === 'Arn') return `arn:${getAtt[0]}`;
  return JSON.stringify(resource);
}

/** Every statement of the policies attached to the function's role, by resource. */
export function policyStatements(template: Template, fn: lambda.IFunction): Map<string, Grant[]> {
  const role = fn.role;
  if (role === undefined) throw new Error('The function has no role.');
  const roleId = resourceIdOf(Stack.of(fn), role);
  const byResource = new Map<string, Grant[]>();
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles as { Ref?: string }[]).map((ref) => ref.Ref);
    if (!roles.includes(roleId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[]) {
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      const grant: Grant = {
        actions: Array.isArray(statement.Action) ? statement.Action : [statement.Action],
        ...(statement.Condition !== undefined && { conditions: statement.Condition }),
      };
      for (const resource of resources) byResource.set(resourceName(resource), [...(byResource.get(resourceName(resource)) ?? []), grant]);
    }
  }
  return byResource;
}

export interface RenderedWidget {
  readonly title: string;
  /** `namespace/metric/first dimension` of each metric line. */
  readonly metrics: readonly string[];
}

/** The widgets of the template's one dashboard, tokens in its body replaced by a placeholder. */
export function dashboardMetrics(template: Template): RenderedWidget[] {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  if (dashboards.length !== 1) throw new Error(`Expected one dashboard, found ${dashboards.length}.`);
  const body = (dashboards[0] as { Properties: { DashboardBody: unknown } }).Properties.DashboardBody;
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const parsed = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as {
    widgets: { properties: { title: string; metrics: unknown[][] } }[];
  };
  return parsed.widgets.map(({ properties }) => ({
    title: properties.title,
    metrics: properties.metrics.map((metric) => `${String(metric[0])}/${String(metric[1])}/${String(metric[2])}`),
  }));
}

/** A nag report's violations as `rule at path` lines, so a failure names them. */
export function nagViolations(report: PolicyValidationPluginReport): string[] {
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}: ${violation.description}`),
  );
}
