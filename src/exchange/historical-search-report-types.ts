/**
 * Start-HistoricalSearch's ReportType values as Microsoft documents them (Start-HistoricalSearch
 * reference, unchanged 2020-2026; shared/EXCHANGE-FACTS.md "Historical search"). "SmtpCSReport", the
 * value the SMTP AUTH audit guidance uses, is not among them: whether the service takes it from
 * PowerShell is unconfirmed.
 */
export const DOCUMENTED_REPORT_TYPES = [
  'ATPReport',
  'ConnectorReport',
  'DLP',
  'MessageTrace',
  'MessageTraceDetail',
  'OutboundSecurityReport',
  'P2SenderAttribution',
  'SPAM',
  'Spoof',
  'TransportRule',
  'UnifiedDLP',
] as const;

export function isDocumentedReportType(reportType: string): boolean {
  return DOCUMENTED_REPORT_TYPES.some((t) => t.toLowerCase() === reportType.toLowerCase());
}
