#
# Module manifest for NSelf.Usage. ModuleVersion here is the one version number of the
# product: Directory.Build.props reads it for the assemblies, build.ps1 for the package.
#
@{
    RootModule             = 'bin/NSelf.Usage.dll'
    ModuleVersion          = '0.1.0'
    GUID                   = '0f1d6b0e-6a8e-4f3b-9d55-3f8f2f7c1a42'
    Author                 = 'NSelf.Usage contributors'
    CompanyName            = 'nself'
    Copyright              = '(c) NSelf.Usage contributors. MIT License.'
    Description            = 'Usage metering for billing: record usage events exactly once, report them, enforce plan quotas and produce invoices. Embedded SQLite by default, PostgreSQL for production.'
    PowerShellVersion      = '7.4'
    CompatiblePSEditions   = @('Core')
    # No FormatsToProcess or TypesToProcess: module/NSelf.Usage.Format.ps1xml and .Types.ps1xml
    # load with the first object a command writes (ModuleViews.cs, decision 227), so that a
    # script which only tracks does not pay for building PowerShell's format table at import.
    CmdletsToExport        = @(
        'Connect-UsageStore', 'Disconnect-UsageStore', 'Get-UsageStore', 'Test-UsageStore', 'Initialize-UsageStore',
        'Get-UsageConfiguration', 'Set-UsageConfiguration',
        'Add-UsageApiRequest', 'Add-UsageStorage', 'Add-UsageBandwidth', 'Add-UsageCompute',
        'Add-UsageDatabaseQuery', 'Add-UsageFunction', 'Add-UsageRecord',
        'Start-UsageBatch', 'Submit-UsageBatch', 'Stop-UsageBatch', 'Get-UsageBatch', 'Clear-UsageBatch',
        'Register-UsageService', 'Get-UsageService',
        'Get-Usage', 'Get-UsageRecord', 'Get-UsageAggregate', 'Update-UsageSummary',
        'Get-UsageStatistic', 'Get-UsageTrend', 'Get-UsagePeak',
        'Export-Usage', 'Export-UsageReport', 'Move-UsageRecord', 'Import-UsageRecord',
        'New-BillingCustomer', 'Get-BillingCustomer', 'Set-BillingCustomer', 'Remove-BillingCustomer',
        'Get-BillingPlan', 'Set-BillingPlan', 'Get-UsageQuota', 'Set-UsageQuota',
        'Get-BillingSubscription', 'New-BillingSubscription', 'Set-BillingSubscription',
        'Test-UsageQuota', 'Get-UsageAlert',
        'Register-UsageAlertAction', 'Get-UsageAlertAction', 'Remove-UsageAlertAction', 'Submit-UsageAlertDelivery', 'Get-UsageAlertDelivery', 'Get-UsageForecast',
        'New-BillingInvoice', 'Get-BillingInvoice', 'Export-BillingInvoice', 'Send-BillingInvoice', 'Complete-BillingInvoice', 'Get-BillingSummary',
        'Set-BillingInvoice', 'New-BillingCreditNote', 'Get-BillingCreditNote', 'Export-BillingCreditNote',
        'Add-BillingCredit', 'Remove-BillingCredit', 'Get-BillingBalance', 'Get-BillingLedger',
        'Test-BillingInvoice', 'Get-BillingProfile', 'Set-BillingProfile', 'Get-BillingTaxRate', 'Set-BillingTaxRate',
        'Enable-UsageTenantIsolation', 'Disable-UsageTenantIsolation',
        'Grant-UsageCustomerAccess', 'Revoke-UsageCustomerAccess', 'Get-UsageCustomerAccess'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    AliasesToExport        = @()
    PrivateData            = @{
        PSData = @{
            # PSEdition_Core and the platform tags are what the PowerShell Gallery and Find-PSResource
            # filter on. No LicenseUri or ProjectUri: the project has no public address yet, and the
            # package carries its LICENSE file (MIT).
            Tags         = @('PSEdition_Core', 'Windows', 'Linux', 'MacOS', 'usage', 'metering', 'billing', 'quota', 'invoice', 'sqlite', 'postgresql', 'nself')
            # Filled in from this version's CHANGELOG.md entry by build.ps1 Package and Publish.
            ReleaseNotes = ''
        }
    }
}
