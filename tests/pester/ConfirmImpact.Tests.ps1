# Issue 17 item 4: irreversible actions ask first. Complete-BillingInvoice, Set-BillingSubscription
# -Cancel, Move-UsageRecord, Remove-BillingCustomer, Clear-UsageBatch -Discard and
# Remove-UsageAlertAction (issue 20) are ConfirmImpact High, so under the default $ConfirmPreference (High) they prompt. Proved for real: each runs in a
# fresh `pwsh -NonInteractive`, where a prompt cannot be answered and fails, and must write nothing;
# with -Confirm:$false the same command works. The routine uses of the two commands whose other
# switch is irreversible (changing a plan, delivering a batch) must not prompt.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest, $work, $databases = New-SuiteFixture

    # Runs Body in a fresh non-interactive pwsh with the module and a new SQLite store; returns its lines.
    function Invoke-Fresh([string] $Name, [string] $Body) {
        $folder = Join-Path $work $Name
        New-Item -ItemType Directory -Path $folder | Out-Null
        $environment = @{
            NSELF_USAGE_STORE = (Join-Path $folder 'usage.db'); NSELF_CUSTOMER_ID = 'cus_a'; NSELF_USAGE_TIMEZONE = ''
            BILLING_CACHE_DIR = (Join-Path $folder 'cache'); BILLING_EXPORT_DIR = (Join-Path $folder 'exports')
        }
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$manifest'
# How a refused prompt shows: the host error of a NonInteractive session, whatever the command.
function Try-Run([scriptblock] `$run) {
    try { & `$run | Out-Null; 'ran' }
    catch { 'failed: ' + `$_.Exception.GetType().Name + ': ' + `$_.Exception.Message }
}
"confirm preference: `$ConfirmPreference"
$Body
"@
        Invoke-Pwsh -Script $script -Environment $environment -WorkingDirectory $folder
    }

    # The lines of a fresh run after a label, up to the next label.
    function Get-Line([string[]] $Lines, [string] $Label) {
        ($Lines | Where-Object { $_ -like "${Label}: *" } | Select-Object -First 1) -replace "^${Label}: ", ''
    }
}

AfterAll {
    Remove-SuiteFixture -Work $work -Databases $databases
}

Describe 'ConfirmImpact' {
    It 'the irreversible commands are ConfirmImpact High, and the default $ConfirmPreference asks for High' {
        $output = Invoke-Fresh 'impact' @'
foreach ($name in 'Complete-BillingInvoice', 'Send-BillingInvoice', 'Set-BillingInvoice', 'New-BillingCreditNote', 'Remove-BillingCredit', 'Set-BillingSubscription', 'Move-UsageRecord', 'Remove-BillingCustomer', 'Clear-UsageBatch', 'Remove-UsageAlertAction') {
    "impact ${name}: " + (Get-Command $name).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact
}
'@
        Get-Line $output 'confirm preference' | Should -Be 'High'
        foreach ($name in 'Complete-BillingInvoice', 'Send-BillingInvoice', 'Set-BillingInvoice', 'New-BillingCreditNote', 'Remove-BillingCredit', 'Set-BillingSubscription', 'Move-UsageRecord', 'Remove-BillingCustomer', 'Clear-UsageBatch', 'Remove-UsageAlertAction') {
            Get-Line $output "impact $name" | Should -Be 'High' -Because "$name is irreversible"
        }
    }
}

Describe 'Irreversible actions ask first, in a fresh non-interactive pwsh' {
    It 'Complete-BillingInvoice asks; nothing is finalized until -Confirm:$false' {
        $output = Invoke-Fresh 'complete' @'
New-BillingSubscription -Plan starter -Start (Get-Date).AddMonths(-2).AddDays(-1) | Out-Null
$draft = New-BillingInvoice
'asked: ' + (Try-Run { Complete-BillingInvoice $draft.InvoiceId })
'after asking: ' + (Get-BillingInvoice $draft.InvoiceId).Status
'confirmed: ' + (Try-Run { Complete-BillingInvoice $draft.InvoiceId -Confirm:$false })
'after confirming: ' + (Get-BillingInvoice $draft.InvoiceId).Status
'@
        Get-Line $output 'asked' | Should -Match '^failed: .*NonInteractive'
        Get-Line $output 'after asking' | Should -Be 'Draft'
        Get-Line $output 'confirmed' | Should -Be 'ran'
        Get-Line $output 'after confirming' | Should -Be 'Open'
    }

    It 'piping every subscription into Set-BillingSubscription -Cancel asks; changing a plan does not' {
        $output = Invoke-Fresh 'cancel' @'
foreach ($c in 'cus_a', 'cus_b') { New-BillingSubscription $c -Plan starter | Out-Null }
'asked: ' + (Try-Run { Get-BillingSubscription -AllCustomers | Set-BillingSubscription -Cancel })
'after asking: ' + ((Get-BillingSubscription -AllCustomers | Sort-Object CustomerId | ForEach-Object Status) -join ',')
'plan change: ' + (Try-Run { Set-BillingSubscription -CustomerId cus_a -Plan pro })
'plan: ' + (Get-BillingSubscription cus_a).Plan
'confirmed: ' + (Try-Run { Get-BillingSubscription -AllCustomers | Set-BillingSubscription -Cancel -Confirm:$false })
'after confirming: ' + ((Get-BillingSubscription -AllCustomers -IncludeEnded | Sort-Object CustomerId | ForEach-Object Status) -join ',')
'@
        Get-Line $output 'asked' | Should -Match '^failed: .*NonInteractive'
        Get-Line $output 'after asking' | Should -Be 'Active,Active'
        Get-Line $output 'plan change' | Should -Be 'ran'
        Get-Line $output 'plan' | Should -Be 'pro'
        Get-Line $output 'confirmed' | Should -Be 'ran'
        Get-Line $output 'after confirming' | Should -Be 'Canceled,Canceled'
    }

    It 'Move-UsageRecord asks; nothing is archived or deleted until -Confirm:$false' {
        $output = Invoke-Fresh 'move' @'
1..4 | ForEach-Object { Add-UsageApiRequest "/old/$_" -Timestamp (Get-Date).AddDays(-200) }
'asked: ' + (Try-Run { Move-UsageRecord 90 ./archive.csv })
'after asking: ' + @(Get-UsageRecord).Count + ' ' + (Test-Path ./archive.csv)
'confirmed: ' + (Try-Run { Move-UsageRecord 90 ./archive.csv -Confirm:$false })
'after confirming: ' + @(Get-UsageRecord).Count + ' ' + (Test-Path ./archive.csv)
'@
        Get-Line $output 'asked' | Should -Match '^failed: .*NonInteractive'
        Get-Line $output 'after asking' | Should -Be '4 False'
        Get-Line $output 'confirmed' | Should -Be 'ran'
        Get-Line $output 'after confirming' | Should -Be '0 True'
    }

    It 'Remove-BillingCustomer asks; the customer stays until -Confirm:$false' {
        $output = Invoke-Fresh 'remove' @'
New-BillingCustomer cus_gone | Out-Null
'asked: ' + (Try-Run { 'cus_gone' | Remove-BillingCustomer })
'after asking: ' + [bool](Get-BillingCustomer cus_gone -ErrorAction SilentlyContinue)
'confirmed: ' + (Try-Run { 'cus_gone' | Remove-BillingCustomer -Confirm:$false })
'after confirming: ' + [bool](Get-BillingCustomer cus_gone -ErrorAction SilentlyContinue)
'@
        Get-Line $output 'asked' | Should -Match '^failed: .*NonInteractive'
        Get-Line $output 'after asking' | Should -Be 'True'
        Get-Line $output 'confirmed' | Should -Be 'ran'
        Get-Line $output 'after confirming' | Should -Be 'False'
    }

    It 'Remove-UsageAlertAction asks; the action and its pending delivery stay until -Confirm:$false' {
        $output = Invoke-Fresh 'alert-action' @'
Register-UsageAlertAction ops-webhook -Webhook http://127.0.0.1:9/hook -Secret (ConvertTo-SecureString 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' -AsPlainText -Force) | Out-Null
New-BillingSubscription -Plan free | Out-Null
Add-UsageRecord -Service api -Quantity 9500
Test-UsageQuota api -WarningAction SilentlyContinue | Out-Null
'asked: ' + (Try-Run { Remove-UsageAlertAction ops-webhook })
'after asking: ' + @(Get-UsageAlertAction).Count + ' ' + ((Get-UsageAlertDelivery).Status -join ',')
'confirmed: ' + (Try-Run { Get-UsageAlertAction ops-* | Remove-UsageAlertAction -Confirm:$false })
'after confirming: ' + @(Get-UsageAlertAction).Count + ' ' + ((Get-UsageAlertDelivery).Status -join ',')
'@
        Get-Line $output 'asked' | Should -Match '^failed: .*NonInteractive'
        Get-Line $output 'after asking' | Should -Be '1 Pending'
        Get-Line $output 'confirmed' | Should -Be 'ran'
        Get-Line $output 'after confirming' | Should -Be '0 Cancelled'
    }

    It 'Clear-UsageBatch -Discard asks; the events stay pending until -Force (or -Confirm:$false); delivering does not ask' {
        $output = Invoke-Fresh 'discard' @'
Start-UsageBatch | Out-Null
1..3 | ForEach-Object { Add-UsageApiRequest "/spooled/$_" }
'asked: ' + (Try-Run { Clear-UsageBatch -Discard })
'after asking: ' + (Get-UsageBatch).Active
'forced: ' + (Try-Run { Clear-UsageBatch -Discard -Force })
'after forcing: ' + @(Get-UsageRecord).Count + ' ' + (Get-UsageBatch).Pending
Start-UsageBatch | Out-Null
1..2 | ForEach-Object { Add-UsageApiRequest "/kept/$_" }
'delivered: ' + (Try-Run { Clear-UsageBatch })
'after delivering: ' + @(Get-UsageRecord).Count
'@
        Get-Line $output 'asked' | Should -Match '^failed: .*NonInteractive'
        Get-Line $output 'after asking' | Should -Be 'True'
        Get-Line $output 'forced' | Should -Be 'ran'
        Get-Line $output 'after forcing' | Should -Be '0 0'
        Get-Line $output 'delivered' | Should -Be 'ran'
        Get-Line $output 'after delivering' | Should -Be '2'
    }
}
