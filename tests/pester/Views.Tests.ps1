# Issue 17 item 3, views that never hide money: every view of module/NSelf.Usage.Format.ps1xml is
# rendered by PowerShell's own formatter (Out-String, as a console shows it) at 80 and 120 columns,
# under en-US and de-DE, in a fresh pwsh, over objects of a seeded SQLite store with realistic and
# hostile values (a 120.046875 quantity, a total past a million, a 0.000125 unit price, JPY and KWD
# invoices, long customer ids and service names). Every money and quantity value of every object
# must appear whole, formatted as this file expects (built here, not by the module's formatter), and
# no number may start in '…' (how PowerShell cuts a right-aligned cell). The views are read from the format file, and a view without
# sample objects fails, so a new view cannot skip the test.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    [xml] $format = Get-Content -Raw -LiteralPath (Join-Path (Get-RepoRoot) 'module/NSelf.Usage.Format.ps1xml')
    $views = @($format.Configuration.ViewDefinitions.View | ForEach-Object Name)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest, $work, $databases = New-SuiteFixture
    $artifacts = Join-Path (Get-RepoRoot) 'TestResults'
    New-Item -ItemType Directory -Path $artifacts -Force | Out-Null
    $formatFile = Join-Path (Get-RepoRoot) 'module/NSelf.Usage.Format.ps1xml'
    $result = Join-Path $artifacts 'views.json'
    # The child: seeds the store, gathers sample objects per view, renders each view and writes
    # what it found to a JSON file. Single-quoted so that nothing in it expands here.
    $child = @'
$ErrorActionPreference = 'Stop'
Import-Module '<MANIFEST>'
$formatFile = '<FORMAT>'
$inv = [cultureinfo]::InvariantCulture
$now = [datetimeoffset]::UtcNow
$long = 'cus_' + ('enterprise_' * 5) + 'holding_0001'
$svc = 'long-named-custom-service-for-narrow-consoles'
$november = [datetimeoffset]'2026-11-01T00:00:00Z'

# A new store: its migrations are applied here (any other command would apply them silently first).
$migrations = @(Initialize-UsageStore)

# --- The store: customers, a service priced per unit, plans in USD, JPY and KWD, quotas, usage.
New-BillingCustomer -CustomerId $long -Name 'Enterprise Holding with a Very Long Legal Name GmbH & Co. KG' -Email 'billing.department@enterprise-holding.example' -Company 'Enterprise Holding' | Out-Null
New-BillingCustomer -CustomerId cus_tokyo -Name 'Tokyo KK' | Out-Null
New-BillingCustomer -CustomerId cus_kuwait -Name 'Kuwait WLL' | Out-Null
Register-UsageService -Name $svc -Unit units -Price 0.000125 -Description 'A custom service whose name and description are longer than a narrow console leaves for them' | Out-Null
Set-BillingPlan -Name whale -DisplayName 'Whale (enterprise, custom terms)' -PriceMonthly 1234567.89 -PriceYearly 12345678.9 -Currency USD
Set-BillingPlan -Name tokyo -PriceMonthly 1500 -PriceYearly 15000 -Currency JPY
Set-BillingPlan -Name kuwait -PriceMonthly 12.35 -PriceYearly 123.5 -Currency KWD
Set-UsageQuota -Plan whale -Service $svc -Limit 100 -OveragePrice 0.000125
Set-UsageQuota -Plan tokyo -Service functions -Limit 1000 -PricingModel Graduated -Tier @{ UpTo = 5000; UnitPrice = 0.2 }, @{ UnitPrice = 0.125; FlatFee = 1000 }
Set-UsageQuota -Plan kuwait -Service api -Limit 10 -OveragePrice 0.0015
New-BillingSubscription -CustomerId $long -Plan whale -Start $november | Out-Null
New-BillingSubscription -CustomerId cus_tokyo -Plan tokyo -Start $november | Out-Null
New-BillingSubscription -CustomerId cus_kuwait -Plan kuwait -Start $november | Out-Null
$at = $november.AddDays(14)
Add-UsageRecord -CustomerId $long -Service $svc -Quantity 120.046875 -Timestamp $at -Metadata @{ region = 'eu-central-1-frankfurt-availability-zone-b' }
Add-UsageRecord -CustomerId $long -Service $svc -Quantity 1234567.891234 -Timestamp $at.AddHours(1) -Metadata @{ region = 'us-east-1' }
Add-UsageRecord -CustomerId cus_tokyo -Service functions -Quantity 8000 -Timestamp $at
Add-UsageRecord -CustomerId cus_kuwait -Service api -Quantity 1234 -Timestamp $at
# Recent usage for statistics, trends, peaks, quota checks and alerts (the last days, not November).
foreach ($d in 1..3) {
    Add-UsageRecord -CustomerId $long -Service $svc -Quantity (120.046875 * $d) -Timestamp $now.AddDays(-$d) -Metadata @{ region = 'eu-central-1-frankfurt-availability-zone-b' }
    Add-UsageRecord -CustomerId cus_kuwait -Service api -Quantity (1000 * $d) -Timestamp $now.AddDays(-$d).AddHours(-1)
}
Add-UsageRecord -CustomerId $long -Service $svc -Quantity 1234567.891234 -Timestamp $now.AddHours(-5)

$env:BILLING_TAX_RATE = '8.25'
$invoices = @(
    New-BillingInvoice -CustomerId $long -Start 2026-11-01 -End 2026-11-30
    New-BillingInvoice -CustomerId cus_tokyo -Start 2026-11-01 -End 2026-11-30
    New-BillingInvoice -CustomerId cus_kuwait -Start 2026-11-01 -End 2026-11-30
)
Remove-Item Env:BILLING_TAX_RATE
$tokyo = Complete-BillingInvoice -InvoiceId $invoices[1].InvoiceId -Confirm:$false
# Issue 19: a payment and prepaid credit, for the ledger, grant and balance views.
if ($tokyo.AmountDue -gt 0) { Set-BillingInvoice -InvoiceId $tokyo.InvoiceId -Paid -PaymentReference 'SEPA-2026-12-000123-ENTERPRISE' -Confirm:$false | Out-Null }
$kuwait = Complete-BillingInvoice -InvoiceId $invoices[2].InvoiceId -Confirm:$false
$notes = @(
    if ($tokyo.Total -ge 3) { New-BillingCreditNote -InvoiceId $tokyo.InvoiceId -Amount ([decimal]::Floor($tokyo.Total / 3)) -Reason 'Service level credit for the outage of 2026-11-12, 14:00 to 16:30 UTC' -Confirm:$false }
    if ($kuwait.Total -ge 1.234) { New-BillingCreditNote -InvoiceId $kuwait.InvoiceId -Amount 1.234 -Reason 'Goodwill' -Confirm:$false }
)
$grants = @(
    Add-BillingCredit -CustomerId $long -Amount '1234567.89' -Currency USD -ExpiresAt 2099-12-31 -Priority 1 -Description 'Prepaid enterprise commitment, year one'
    Add-BillingCredit -CustomerId cus_kuwait -Amount 12.345 -Currency KWD
)

# Issue 20: alert actions with long names, URLs, addresses and filters, so that the quota check of
# the samples below queues deliveries and tries them: a webhook and an SMTP server on closed ports
# of this machine, so each waits for a retry with its error (nothing leaves the machine).
$env:BILLING_SMTP_SERVER = '127.0.0.1'; $env:BILLING_SMTP_PORT = '9'; $env:USAGE_ALERT_TIMEOUT = '5'
$hookSecret = ConvertTo-SecureString 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' -AsPlainText -Force
$actions = @(
    Register-UsageAlertAction -Name 'enterprise-holding-operations-webhook' -Webhook 'http://127.0.0.1:9/nself/usage-alerts/enterprise-holding-with-a-long-path?tenant=enterprise-holding-0001' -Secret $hookSecret -Service $svc -CustomerId $long
    Register-UsageAlertAction -Name 'billing-team' -Email 'billing.department@enterprise-holding.example', 'Accounts Payable <accounts.payable@enterprise-holding.example>' -Level Critical, Exceeded
    Register-UsageAlertAction -Name 'kuwait-exceeded' -Webhook 'http://127.0.0.1:9/hook' -Secret $hookSecret -Level Exceeded -Service api -CustomerId cus_kuwait
)

$exports = Join-Path ([IO.Path]::GetTempPath()) ('nself-usage-views-' + [guid]::NewGuid().ToString('n'))
New-Item -ItemType Directory -Path $exports | Out-Null
$exported = @(
    Export-Usage Csv (Join-Path $exports 'usage.csv') -AllCustomers
    Export-Usage Json (Join-Path $exports 'usage-long.json') 2026-11-01 2026-11-30 -CustomerId $long -Compress
    Export-UsageReport (Join-Path $exports 'report.html') 2026-11-01 2026-11-30 -CustomerId $long
    Export-BillingInvoice $invoices[1].InvoiceId Html (Join-Path $exports 'invoice.html')
)
Start-UsageBatch | Out-Null
Add-UsageRecord -CustomerId cus_tokyo -Service functions -Quantity 1 -Timestamp $now.AddMinutes(-1)
$batchStatus = Get-UsageBatch
$batchResult = Stop-UsageBatch

# Constructed where this store cannot produce them: PostgreSQL tenant isolation, and the findings of
# checks that need damage (a changed rollup, an event billed twice).
function New-Sample([type] $Type, [hashtable] $Values) {
    $o = [Activator]::CreateInstance($Type)
    foreach ($k in $Values.Keys) { $Type.GetProperty($k).SetValue($o, $Values[$k]) }
    $o
}
$discrepancies = @(
    New-Sample ([NSelf.Usage.BillingInvoiceDiscrepancy]) @{ CustomerId = $long; Kind = [NSelf.Usage.DiscrepancyKind]::AmountMismatch; InvoiceId = $invoices[0].InvoiceId; PeriodStart = $november; PeriodEnd = $november.AddMonths(1); EventId = 'evt_0123456789abcdef'; Service = $svc; Quantity = [decimal]'1234567.891234'; BilledQuantity = [decimal]'120.046875'; Lines = [string[]]@("$($invoices[0].InvoiceId)#2"); Detail = 'billed at another quantity than it now has' }
    New-Sample ([NSelf.Usage.BillingInvoiceDiscrepancy]) @{ CustomerId = 'cus_tokyo'; Kind = [NSelf.Usage.DiscrepancyKind]::Unbilled; InvoiceId = $invoices[1].InvoiceId; PeriodStart = $november; PeriodEnd = $november.AddMonths(1); EventId = 'evt_1'; Service = 'functions'; Quantity = [decimal]'8000'; Detail = 'sealed but not billed' }
)
$samples = [ordered]@{
    'NSelf.Usage.UsageRecord' = @(Get-UsageRecord -AllCustomers)
    'NSelf.Usage.UsageSummary' = @(Get-Usage -AllCustomers -Start 2026-11-01 -End 2026-11-30)
    'NSelf.Usage.UsageSummary#Grouped' = @(Get-Usage -CustomerId $long -Start 2026-11-01 -End 2026-11-30 -GroupBy region)
    'NSelf.Usage.UsageBreakdown' = @(Get-Usage -AllCustomers -Start 2026-11-01 -End 2026-11-30 -Detailed)
    'NSelf.Usage.UsageBreakdown#Grouped' = @(Get-Usage -CustomerId $long -Start 2026-11-01 -End 2026-11-30 -Detailed -GroupBy region)
    'NSelf.Usage.UsageAggregate' = @(Get-UsageAggregate Hourly -AllCustomers -Start 2026-11-15 -End 2026-11-15) + @(Get-UsageAggregate Daily -AllCustomers -Start 2026-11-01 -End 2026-11-30) + @(Get-UsageAggregate Monthly -AllCustomers -Start 2026-11-01 -End 2026-11-30)
    'NSelf.Usage.UsageAggregate#Grouped' = @(Get-UsageAggregate Daily -CustomerId $long -Start 2026-11-01 -End 2026-11-30 -GroupBy region)
    'NSelf.Usage.UsageService' = @(Get-UsageService)
    'NSelf.Usage.BillingCustomer' = @(Get-BillingCustomer)
    'NSelf.Usage.UsageStore' = @(Get-UsageStore)
    'NSelf.Usage.UsageStoreMigration' = $migrations
    'NSelf.Usage.UsageConfiguration' = @(Get-UsageConfiguration)
    'NSelf.Usage.UsageStoreHealth' = @(Test-UsageStore -Detailed)
    'NSelf.Usage.UsageStoreDifference' = @(
        New-Sample ([NSelf.Usage.UsageStoreDifference]) @{ Rollup = 'QuarterHour'; CustomerId = $long; Service = $svc; BucketStart = $november; Kind = 'Different'; ExpectedEvents = [long]1234567; StoredEvents = [long]2; ExpectedQuantity = [decimal]'1234567.891234'; StoredQuantity = [decimal]'120.046875'; ExpectedMinimum = [decimal]'0.000125'; StoredMinimum = [decimal]'0.5'; ExpectedMaximum = [decimal]'1234567.891234'; StoredMaximum = [decimal]'120.046875' })
    'NSelf.Usage.UsageSummaryRefresh' = @(Update-UsageSummary)
    'NSelf.Usage.BillingPlan' = @(Get-BillingPlan)
    'NSelf.Usage.BillingProfile' = @(Set-BillingProfile -LegalName 'Enterprise Billing Services with a Very Long Legal Name GmbH & Co. KG' -Address 'Musterstraße 1', '10115 Berlin' -Country DE -TaxId DE123456789 -Email 'rechnung@beispiel.example' -InvoicePrefix 'BSP-' -Locale de-DE -ReverseCharge -SmtpServer smtp.beispiel.example -SmtpCredential ([pscredential]::new('rechnung@beispiel.example', (ConvertTo-SecureString 'not-shown' -AsPlainText -Force))) -PassThru)
    'NSelf.Usage.BillingTaxRate' = @(Set-BillingTaxRate VAT 19 -Country DE -PassThru) + @(Set-BillingTaxRate 'Sales tax' '8.875' -Country US -Region NY -PassThru) + @(Set-BillingTaxRate 'Sales tax' '0.0001' -Country US -PassThru)
    'NSelf.Usage.BillingQuota' = @(Get-UsageQuota -Plan whale) + @(Get-UsageQuota -Plan tokyo) + @(Get-UsageQuota -Plan kuwait)
    'NSelf.Usage.BillingSubscription' = @(Get-BillingSubscription -AllCustomers)
    'NSelf.Usage.QuotaStatus' = @(Test-UsageQuota -AllCustomers 3>$null)
    'NSelf.Usage.UsageAlert' = @(Get-UsageAlert -Days 30 -AllCustomers)
    'NSelf.Usage.UsageAlertAction' = $actions
    # Those the quota check above tried (each waiting for a retry, its error kept), and one delivered.
    'NSelf.Usage.UsageAlertDelivery' = @(Get-UsageAlertDelivery -AllCustomers) + @(New-Sample ([NSelf.Usage.UsageAlertDelivery]) @{ DeliveryId = [long]987; AlertId = [long]654; Action = 'billing-team'; CustomerId = 'cus_tokyo'; Service = 'functions'; Level = [NSelf.Usage.QuotaLevel]::Exceeded; Status = [NSelf.Usage.AlertDeliveryStatus]::Delivered; Attempts = 3; LastAttemptAt = $now; DeliveredAt = $now; CreatedAt = $now.AddMinutes(-2) })
    # Forecasts of the store's customers, and one of a whale: millions projected, a cost in the thousands.
    'NSelf.Usage.UsageForecast' = @(Get-UsageForecast -AllCustomers) + @(New-Sample ([NSelf.Usage.UsageForecast]) @{ CustomerId = $long; Service = $svc; Unit = 'requests'; PeriodStart = $november; PeriodEnd = $november.AddMonths(1); UsedSoFar = [decimal]'1234567.891234'; Projected = [decimal]'2469136'; ProjectedLow = [decimal]'2345678'; ProjectedHigh = [decimal]'2592594'; ProjectedCost = [decimal]'123456.78'; Currency = 'USD'; Limit = [decimal]'2000000'; ExceedsOn = [DateOnly]::new(2026, 11, 24); Method = 'trend+weekly'; HistoryDays = 28 })
    'NSelf.Usage.BillingInvoice' = $invoices
    'NSelf.Usage.BillingInvoiceLine' = @(foreach ($i in $invoices) { foreach ($l in $i.Lines) { $l | Add-Member -NotePropertyName ExpectedCurrency -NotePropertyValue $i.Currency -PassThru } })
    'NSelf.Usage.BillingInvoiceDiscrepancy' = $discrepancies
    'NSelf.Usage.BillingInvoiceDiscrepancy#List' = $discrepancies
    'NSelf.Usage.PriceTier' = @((Get-UsageQuota -Plan tokyo | Where-Object Service -eq functions).Tiers)
    'NSelf.Usage.InvoiceTierAmount' = @(foreach ($l in $invoices[1].Lines) { $l.Tiers })
    'NSelf.Usage.BillingSummary' = @(Get-BillingSummary -CustomerId $long) + @(Get-BillingSummary -CustomerId cus_tokyo) + @(Get-BillingSummary -CustomerId cus_kuwait)
    'NSelf.Usage.UsageStatistic' = @(Get-UsageStatistic -AllCustomers)
    'NSelf.Usage.UsageTrend' = @(Get-UsageTrend -AllCustomers)
    'NSelf.Usage.UsagePeak' = @(Get-UsagePeak -AllCustomers -Days 60)
    'NSelf.Usage.UsageImportResult' = @(Import-UsageRecord -Path $exported[0].Path)
    'NSelf.Usage.UsageBatchStatus' = @($batchStatus)
    'NSelf.Usage.UsageBatchResult' = @($batchResult)
    'NSelf.Usage.UsageCustomerAccess' = @(New-Sample ([NSelf.Usage.UsageCustomerAccess]) @{ Role = 'tenant_enterprise_holding_reporting'; CustomerId = $long; GrantedAt = $now; GrantedBy = 'postgres' })
    'NSelf.Usage.UsageTenantIsolation' = @(New-Sample ([NSelf.Usage.UsageTenantIsolation]) @{ Enabled = $true; AdminRole = 'usage_admin'; AdminRoleExists = $true; CurrentRole = 'postgres'; CurrentRoleIsAdmin = $true; CustomerTables = 9; SummaryReaders = [string[]]@('PUBLIC'); Location = 'db.example:5432/billing' })
    'NSelf.Usage.UsageTenantIsolationChange' = @(New-Sample ([NSelf.Usage.UsageTenantIsolationChange]) @{ Role = 'tenant_reader'; MappedCustomers = [string[]]@($long); LosesAccess = 'all but 1 customers'' rows' })
    'NSelf.Usage.BillingInvoiceDelivery' = @(New-Sample ([NSelf.Usage.BillingInvoiceDelivery]) @{ InvoiceId = $invoices[0].InvoiceId; InvoiceNumber = 'BSP-000042'; CustomerId = $long; To = [string[]]@('Accounts Payable <ap@enterprise-holding.example>'); Cc = [string[]]@('am@example.com'); SentAt = $now; MessageId = 'BSP-000042.639000000000000000@beispiel.example'; Server = 'smtp.beispiel.example:587' })
    'NSelf.Usage.BillingCreditGrant' = $grants
    'NSelf.Usage.BillingCreditNote' = $notes
    'NSelf.Usage.BillingCreditNoteLine' = @(foreach ($n in $notes) { foreach ($l in $n.Lines) { $l | Add-Member -NotePropertyName ExpectedCurrency -NotePropertyValue $n.Currency -PassThru } })
    'NSelf.Usage.BillingBalance' = @(Get-BillingBalance -CustomerId $long) + @(Get-BillingBalance -CustomerId cus_kuwait) + @(Get-BillingBalance -CustomerId cus_tokyo)
    'NSelf.Usage.BillingLedgerEntry' = @(Get-BillingLedger -AllCustomers)
    'NSelf.Usage.UsageExportResult' = $exported
    # Last: the archive deletes what it moves.
    'NSelf.Usage.UsageArchiveResult' = @(Move-UsageRecord -OlderThanDays 0 -Path (Join-Path $exports 'archive.csv') -AllCustomers -Confirm:$false)
}

# --- What each view must show whole: property and how this test expects it formatted.
# Money: to the currency's minor unit (ExpectedCurrency on invoice lines, whose currency is the
# invoice's); Price: at least the minor unit and every digit it has; Quantity: every digit; Count: whole.
$Q = 'Quantity'; $M = 'Money'; $P = 'Price'; $C = 'Count'
$spec = @{
    'NSelf.Usage.UsageRecord' = @{ Quantity = $Q }
    'NSelf.Usage.UsageSummary' = @{ Quantity = $Q; Events = $C; Cost = $M }
    'NSelf.Usage.UsageSummary#Grouped' = @{ Quantity = $Q; Events = $C; Cost = $M }
    'NSelf.Usage.UsageBreakdown' = @{ Quantity = $Q; Events = $C; Cost = $M }
    'NSelf.Usage.UsageBreakdown#Grouped' = @{ Quantity = $Q; Events = $C; Cost = $M }
    'NSelf.Usage.UsageAggregate' = @{ Total = $Q; Events = $C; Cost = $M }
    'NSelf.Usage.UsageAggregate#Grouped' = @{ Total = $Q; Events = $C; Cost = $M }
    'NSelf.Usage.UsageService' = @{ DisplayPrice = $P }
    'NSelf.Usage.UsageStoreHealth' = @{ StoredEvents = $C; ArchivedEvents = $C }
    'NSelf.Usage.UsageConfiguration' = @{ AlertWarning = $Q; AlertCritical = $Q; AlertExceeded = $Q }
    'NSelf.Usage.UsageStoreDifference' = @{ ExpectedEvents = $C; StoredEvents = $C; ExpectedQuantity = $Q; StoredQuantity = $Q; ExpectedMinimum = $Q; StoredMinimum = $Q; ExpectedMaximum = $Q; StoredMaximum = $Q }
    'NSelf.Usage.UsageSummaryRefresh' = @{ Rows = $C }
    'NSelf.Usage.BillingPlan' = @{ PriceMonthly = $M; PriceYearly = $M }
    'NSelf.Usage.BillingProfile' = @{}
    'NSelf.Usage.BillingTaxRate' = @{ Rate = $Q }
    'NSelf.Usage.BillingQuota' = @{ Limit = $Q; Used = $Q; Percent = $Q; OveragePrice = $P }
    'NSelf.Usage.QuotaStatus' = @{ Used = $Q; Limit = $Q; Percent = $Q }
    'NSelf.Usage.UsageAlert' = @{ Percent = $Q }
    'NSelf.Usage.UsageAlertAction' = @{}
    'NSelf.Usage.UsageAlertDelivery' = @{ DeliveryId = $C; Attempts = $C }
    'NSelf.Usage.UsageForecast' = @{ UsedSoFar = $Q; Projected = $Q; ProjectedCost = $M; Limit = $Q }
    'NSelf.Usage.BillingInvoice' = @{ Subtotal = $M; Tax = $M; Total = $M; AmountDue = $M }
    'NSelf.Usage.BillingInvoiceLine' = @{ Amount = $M; Quantity = $Q; Included = $Q; Billable = $Q; UnitPrice = $P }
    'NSelf.Usage.BillingInvoiceDiscrepancy' = @{ Quantity = $Q; BilledQuantity = $Q }
    'NSelf.Usage.BillingInvoiceDiscrepancy#List' = @{ Quantity = $Q; BilledQuantity = $Q }
    'NSelf.Usage.PriceTier' = @{ UpTo = $Q; UnitPrice = $P; FlatFee = $P }
    'NSelf.Usage.InvoiceTierAmount' = @{ UpTo = $Q; Quantity = $Q; UnitPrice = $P; FlatFee = $P; Amount = $P }
    'NSelf.Usage.BillingSummary' = @{ BaseFee = $M; UsageCost = $M; EstimatedTotal = $M; AmountDue = $M; OverdueAmount = $M; Balance = $M }
    'NSelf.Usage.BillingCreditGrant' = @{ Remaining = $M; Amount = $M; GrantId = $C }
    'NSelf.Usage.BillingBalance' = @{ Balance = $M }
    'NSelf.Usage.BillingCreditNote' = @{ Total = $M; Tax = $M; AppliedToInvoice = $M; CreditedToBalance = $M }
    'NSelf.Usage.BillingCreditNoteLine' = @{ Amount = $M; Quantity = $Q; UnitPrice = $P }
    'NSelf.Usage.BillingLedgerEntry' = @{ Amount = $M; GrantId = $C }
    'NSelf.Usage.UsageStatistic' = @{ Events = $C; Total = $Q; Average = $Q; Minimum = $Q; Maximum = $Q; Median = $Q; P95 = $Q; P99 = $Q }
    'NSelf.Usage.UsageTrend' = @{ Total = $Q; Previous = $Q; ChangePercent = $Q; Events = $C }
    'NSelf.Usage.UsagePeak' = @{ Total = $Q; Events = $C }
    'NSelf.Usage.UsageArchiveResult' = @{ Rows = $C; Deleted = $C; Bytes = $C }
    'NSelf.Usage.UsageImportResult' = @{ Rows = $C; Inserted = $C; Duplicates = $C; Rejected = $C }
    'NSelf.Usage.UsageBatchStatus' = @{ Pending = $C; Spooled = $C; Delivered = $C }
    'NSelf.Usage.UsageBatchResult' = @{ Submitted = $C; Duplicates = $C; Failed = $C; Pending = $C }
    'NSelf.Usage.UsageExportResult' = @{ Bytes = $C; Rows = $C }
    'NSelf.Usage.BillingInvoiceDelivery' = @{}
}

# Views that cut and drop nothing at 80 columns (fixed widths, the long column gets what is left,
# cells wrap): no '…' anywhere, and every column's header is there.
$uncut = @('NSelf.Usage.UsageAlertAction', 'NSelf.Usage.UsageAlertDelivery')

# This test's own idea of the formats (not the module's): ISO 4217 minor units of the currencies it uses.
$minor = @{ USD = 2; EUR = 2; JPY = 0; KWD = 3 }
function Get-Digits([decimal] $Value) {
    $text = $Value.ToString('0.############################', $inv)
    if ($text.Contains('.')) { $text.Length - $text.IndexOf('.') - 1 } else { 0 }
}
function Get-Expected([string] $Kind, $Object, [string] $Property) {
    $value = $Object.$Property
    if ($null -eq $value) { return }
    $culture = [cultureinfo]::CurrentCulture
    $currency = if ($Object.PSObject.Properties['ExpectedCurrency']) { $Object.ExpectedCurrency } else { $Object.Currency }
    $unit = if ($currency) { $minor[[string]$currency] } else { 2 }
    switch ($Kind) {
        'Money' { [decimal]::Round([decimal]$value, $unit, [MidpointRounding]::AwayFromZero).ToString("N$unit", $culture) }
        'Price' { ([decimal]$value).ToString('N' + [Math]::Max($unit, (Get-Digits $value)), $culture) }
        'Quantity' { ([decimal]$value).ToString('N' + (Get-Digits $value), $culture) }
        'Count' { ([long]$value).ToString('N0', $culture) }
    }
}

[xml] $format = Get-Content -Raw -LiteralPath $formatFile
$firstViewOf = @{}
$report = foreach ($view in $format.Configuration.ViewDefinitions.View) {
    $name = $view.Name
    $type = $view.ViewSelectedBy.TypeName
    if (-not $firstViewOf.ContainsKey($type)) { $firstViewOf[$type] = $name }
    $objects = @($samples[$name] | Where-Object { $null -ne $_ })
    if (-not $objects) { [pscustomobject]@{ View = $name; Samples = 0 }; continue }
    # The properties the view shows: named columns and $_.Name in its script blocks.
    $shown = @($view.SelectNodes('.//PropertyName') | ForEach-Object InnerText) + @([regex]::Matches($view.OuterXml, '\$_\.(\w+)') | ForEach-Object { $_.Groups[1].Value }) | Sort-Object -Unique
    $declared = if ($spec[$name]) { $spec[$name] } else { @{} }
    $clrType = $objects[0].GetType()
    $undeclared = @($shown | Where-Object {
            $p = $clrType.GetProperty($_)
            $p -and $p.PropertyType -in [decimal], [Nullable[decimal]], [long], [Nullable[long]] -and -not $declared.ContainsKey($_)
        })
    $control = if ($view.ListControl) { 'List' } else { 'Table' }
    foreach ($cultureName in 'en-US', 'de-DE') {
        $culture = [cultureinfo]::GetCultureInfo($cultureName)
        [cultureinfo]::CurrentCulture = $culture
        [Threading.Thread]::CurrentThread.CurrentCulture = $culture
        foreach ($width in 80, 120) {
            $text = if ($firstViewOf[$type] -eq $name) { $objects | Out-String -Width $width }
            elseif ($control -eq 'List') { $objects | Format-List -View $name | Out-String -Width $width }
            else { $objects | Format-Table -View $name | Out-String -Width $width }
            $missing = foreach ($o in $objects) {
                foreach ($property in $declared.Keys) {
                    $expected = Get-Expected $declared[$property] $o $property
                    if ($null -eq $expected) { continue }
                    # Whole: not glued to other digits or separators, nor cut to '…'.
                    if ($text -notmatch "(?<![\d.,…])$([regex]::Escape($expected))(?![\d…]|[.,]\d)") { "$property $expected" }
                }
            }
            [pscustomobject]@{
                View = $name; Samples = $objects.Count; Culture = $cultureName; Width = $width; Text = $text
                Missing = @($missing | Sort-Object -Unique); Undeclared = $undeclared
                # Numbers are right-aligned, and PowerShell cuts a right-aligned cell at its start: '…046875'.
                Cut = @($text -split '\r?\n' | Where-Object { $_ -match '…\d' -or ($name -in $uncut -and $_ -match '…') })
                Dropped = @(if ($name -in $uncut) { $view.TableControl.TableHeaders.TableColumnHeader.Label | Where-Object { $text -notmatch [regex]::Escape($_) } })
            }
        }
    }
}
$report | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath '<RESULT>' -Encoding utf8NoBOM
Remove-Item -LiteralPath $exports -Recurse -Force -ErrorAction SilentlyContinue
'@
    $child = $child.Replace('<MANIFEST>', $manifest).Replace('<FORMAT>', $formatFile).Replace('<RESULT>', $result)
    Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $work 'views.db'); NSELF_CUSTOMER_ID = 'cus_views'; BILLING_EXPORT_DIR = (Join-Path $work 'exports'); BILLING_CACHE_DIR = (Join-Path $work 'cache'); NSELF_USAGE_TIMEZONE = $null; BILLING_TAX_RATE = $null } -Script $child | Out-Null
    $renderings = @(Get-Content -Raw -LiteralPath $result | ConvertFrom-Json)
}

AfterAll {
    Remove-SuiteFixture $work $databases
}

Describe 'Default views' {
    It '<_> shows every amount and quantity whole at 80 and 120 columns, in en-US and de-DE' -ForEach $views {
        $mine = @($renderings | Where-Object View -eq $_)
        $mine.Samples | Should -Not -Contain 0 -Because "$_ needs sample objects in this test, so that no view goes untested"
        $mine | Should -HaveCount 4
        foreach ($r in $mine) {
            $where = "$($r.View) at $($r.Width) columns in $($r.Culture):`n$($r.Text)"
            $r.Undeclared | Should -BeNullOrEmpty -Because "the view shows these numbers and the test must say how: $where"
            $r.Missing | Should -BeNullOrEmpty -Because "these values must appear whole: $where"
            $r.Cut | Should -BeNullOrEmpty -Because "no number may be cut (nor any cell of a view that cuts nothing): $where"
            $r.Dropped | Should -BeNullOrEmpty -Because "a view that drops nothing shows every column: $where"
        }
    }
}
