/** The shared dashboard definition rendered as a CloudWatch dashboard for one deployed app. */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { DASHBOARD_WIDGETS } from '../dashboard/definition';
import { cloudWatchMetrics, type DeployedApp } from './app-metrics';

/** Two widgets to a row of CloudWatch's 24 columns. */
const WIDGET_WIDTH = 12;
const WIDGET_HEIGHT = 6;

export function appDashboard(scope: Construct, id: string, app: DeployedApp, dashboardName: string | undefined): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, id, { dashboardName });
  dashboard.addWidgets(
    ...DASHBOARD_WIDGETS.map(
      (widget) =>
        new cloudwatch.GraphWidget({
          title: `${app.service}: ${widget.title}`,
          left: widget.metrics.flatMap((metric) => cloudWatchMetrics(app, metric)),
          leftYAxis: { label: widget.unit, showUnits: false, min: 0 },
          width: WIDGET_WIDTH,
          height: WIDGET_HEIGHT,
        }),
    ),
  );
  return dashboard;
}
