#Requires -Version 7.4
<#
.SYNOPSIS
    Generates the module's help from docs/: MAML for every cmdlet, text for about_ topics.
.DESCRIPTION
    Each docs/<Command>.md page (platyPS layout: SYNOPSIS, DESCRIPTION, EXAMPLES, PARAMETERS,
    INPUTS, OUTPUTS, NOTES, RELATED LINKS) gives the words; the compiled cmdlets give the facts
    (syntax, types, positions, pipeline input, aliases), so the two cannot drift apart.
    Runs in its own pwsh so the build session never loads the module it builds.
    Fails when a command has no page, or a page lacks a synopsis, a description, an example, or
    the description of a parameter.
.PARAMETER ModulePath
    The built module manifest.
.PARAMETER DocsPath
    The folder of markdown pages.
.PARAMETER OutputPath
    The culture folder to write (en-US next to the manifest).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $DocsPath,
    [Parameter(Mandatory)] [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

# WhatIf and Confirm are listed like any other parameter (with standard words unless a page has its own).
$commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters
$standardDescriptions = @{
    WhatIf  = 'Shows what would happen if the command runs. The command is not run.'
    Confirm = 'Prompts you for confirmation before running the command.'
    First   = 'Gets only the specified number of objects.'
    Skip    = 'Ignores the specified number of objects and then gets the remaining objects.'
    IncludeTotalCount = 'Reports the total number of objects in the data set (an integer) followed by the selected objects.'
}

# Reads one page into sections: level-2 headings, and level-3 headings inside EXAMPLES, PARAMETERS, OUTPUTS, INPUTS.
function Read-HelpPage([string] $Path) {
    $page = @{ Sections = [ordered]@{}; Subsections = @{} }
    $section = $null; $sub = $null
    $inFence = $false
    foreach ($line in Get-Content -LiteralPath $Path) {
        if ($line -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^## (.+)$') {
            $section = $Matches[1].Trim().ToUpperInvariant(); $sub = $null
            $page.Sections[$section] = [System.Collections.Generic.List[string]]::new()
            $page.Subsections[$section] = [ordered]@{}
            continue
        }
        if (-not $inFence -and $section -and $line -match '^### (.+)$') {
            $sub = $Matches[1].Trim()
            $page.Subsections[$section][$sub] = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($null -eq $section) { continue }
        if ($sub) { $page.Subsections[$section][$sub].Add($line) } else { $page.Sections[$section].Add($line) }
    }
    $page
}

function Get-Paragraphs([string[]] $Lines) {
    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $current = [System.Collections.Generic.List[string]]::new()
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^```') {
            # A fenced block (an example's output) is a paragraph of its own, its lines kept apart.
            if ($current.Count) { $paragraphs.Add(($current -join ($inFence ? "`n" : ' '))); $current.Clear() }
            $inFence = -not $inFence
            continue
        }
        if ($line.Trim() -eq '') {
            if ($current.Count) { $paragraphs.Add(($current -join ($inFence ? "`n" : ' '))); $current.Clear() }
            continue
        }
        # A list item or table row starts a paragraph of its own, so Get-Help keeps it on its own line.
        if (-not $inFence -and $line -match '^\s*([-*]|\d+\.|\|)\s' -and $current.Count) {
            $paragraphs.Add(($current -join ' ')); $current.Clear()
        }
        $current.Add(($inFence ? $line : $line.Trim()))
    }
    if ($current.Count) { $paragraphs.Add(($current -join ' ')) }
    , $paragraphs
}

function Split-Example([string[]] $Lines) {
    $code = [System.Collections.Generic.List[string]]::new()
    $remarks = [System.Collections.Generic.List[string]]::new()
    $inFence = $false; $fenceSeen = $false; $inOutput = $false
    foreach ($line in $Lines) {
        # An '```output' block is what the example shows: it belongs to the remarks (as a block of
        # its own lines), not to the code. Help.Tests.ps1 checks it against the example's output.
        if ($inOutput -or ($line -match '^```output' -and $fenceSeen -and -not $inFence)) {
            $remarks.Add($line)
            if ($inOutput -and $line -match '^```') { $inOutput = $false } else { $inOutput = $true }
            continue
        }
        if ($line -match '^```') {
            $inFence = -not $inFence
            $fenceSeen = $true
            continue
        }
        if ($inFence) { $code.Add($line) } elseif ($fenceSeen) { $remarks.Add($line) }
    }
    [pscustomobject]@{ Code = ($code -join "`n").Trim(); Remarks = Get-Paragraphs $remarks }
}

function Add-Paragraphs([System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs) {
    $Writer.WriteStartElement('maml', 'description', $maml)
    foreach ($p in $Paragraphs) { $Writer.WriteElementString('maml', 'para', $maml, $p) }
    if (-not $Paragraphs) { $Writer.WriteElementString('maml', 'para', $maml, '') }
    $Writer.WriteEndElement()
}

function Get-PipelineInput($parameter) {
    $kinds = @()
    foreach ($attribute in $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }) {
        if ($attribute.ValueFromPipeline) { $kinds += 'ByValue' }
        if ($attribute.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    }
    $kinds = $kinds | Select-Object -Unique
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

# The default of a parameter is what a new cmdlet object holds before binding.
function Get-DefaultValue($Command, $Parameter) {
    if ($Parameter.ParameterType -eq [switch]) { return 'False' }
    try {
        $instance = [Activator]::CreateInstance($Command.ImplementingType)
        $value = $Command.ImplementingType.GetProperty($Parameter.Name).GetValue($instance)
    }
    catch { return 'None' }
    if ($null -eq $value -or ($value -is [string] -and $value -eq '') -or ($value -is [array] -and $value.Length -eq 0)) { return 'None' }
    if ($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.Mandatory }) { return 'None' }
    [System.Convert]::ToString($value, [cultureinfo]::InvariantCulture)
}

function Write-Parameter([System.Xml.XmlWriter] $Writer, $Parameter, [string] $Description, $SetParameter) {
    $Writer.WriteStartElement('command', 'parameter', $command)
    $required = if ($SetParameter) { $SetParameter.IsMandatory } else { @($Parameter.ParameterSets.Values | Where-Object IsMandatory).Count -gt 0 }
    $position = if ($SetParameter) { $SetParameter.Position } else { ($Parameter.ParameterSets.Values | Select-Object -First 1).Position }
    $Writer.WriteAttributeString('required', ([string]$required).ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', ([string]$Parameter.ParameterType.IsArray).ToLowerInvariant())
    $globbing = [bool]($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $Writer.WriteAttributeString('globbing', ([string]$globbing).ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', (Get-PipelineInput $Parameter))
    $Writer.WriteAttributeString('position', ($position -ge 0 ? [string]$position : 'named'))
    $Writer.WriteAttributeString('aliases', ($Parameter.Aliases.Count ? ($Parameter.Aliases -join ', ') : 'none'))
    $Writer.WriteElementString('maml', 'name', $maml, $Parameter.Name)
    Add-Paragraphs $Writer (Get-Paragraphs ($Description -split "`n"))
    $typeName = $Parameter.ParameterType.Name
    $isSwitch = $Parameter.ParameterType -eq [switch]
    if (-not $isSwitch) {
        $Writer.WriteStartElement('command', 'parameterValue', $command)
        $Writer.WriteAttributeString('required', 'true')
        $Writer.WriteAttributeString('variableLength', ([string]$Parameter.ParameterType.IsArray).ToLowerInvariant())
        $Writer.WriteString($typeName)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $dev)
    $Writer.WriteElementString('maml', 'name', $maml, $Parameter.ParameterType.FullName)
    $Writer.WriteElementString('maml', 'uri', $maml, '')
    $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $dev, $defaults[$Parameter.Name])
    $Writer.WriteEndElement()
}

$maml = 'http://schemas.microsoft.com/maml/2004/10'
$command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'

$module = Import-Module $ModulePath -PassThru -Force
$problems = [System.Collections.Generic.List[string]]::new()
New-Item -ItemType Directory -Force -Path $OutputPath | Out-Null

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$helpFile = Join-Path $OutputPath "$($module.Name).dll-Help.xml"
$writer = [System.Xml.XmlWriter]::Create($helpFile, $settings)
$writer.WriteStartDocument()
$writer.WriteStartElement('helpItems', 'http://msh')
$writer.WriteAttributeString('schema', 'maml')

foreach ($cmd in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
    $pagePath = Join-Path $DocsPath "$($cmd.Name).md"
    if (-not (Test-Path $pagePath)) { $problems.Add("$($cmd.Name): no page docs/$($cmd.Name).md"); continue }
    $page = Read-HelpPage $pagePath
    $synopsis = if ($page.Sections.Contains('SYNOPSIS')) { (Get-Paragraphs $page.Sections['SYNOPSIS']) -join ' ' } else { '' }
    $description = if ($page.Sections.Contains('DESCRIPTION')) { Get-Paragraphs $page.Sections['DESCRIPTION'] } else { @() }
    if (-not $synopsis) { $problems.Add("$($cmd.Name): no SYNOPSIS") }
    if (-not $description) { $problems.Add("$($cmd.Name): no DESCRIPTION") }
    $examples = if ($page.Subsections.Contains('EXAMPLES')) { $page.Subsections['EXAMPLES'] } else { @{} }
    if ($examples.Count -eq 0) { $problems.Add("$($cmd.Name): no example") }
    $parameterDocs = if ($page.Subsections.Contains('PARAMETERS')) { $page.Subsections['PARAMETERS'] } else { @{} }
    $parameters = @($cmd.Parameters.Values | Where-Object { $_.Name -notin $commonParameters })
    $descriptions = @{}
    $defaults = @{}
    foreach ($p in $parameters) {
        $defaults[$p.Name] = Get-DefaultValue $cmd $p
        $text = if ($parameterDocs.Contains("-$($p.Name)")) { ($parameterDocs["-$($p.Name)"] | Where-Object { $_ -notmatch '^\s*```' }) -join "`n" } else { $standardDescriptions[$p.Name] }
        if ([string]::IsNullOrWhiteSpace($text)) { $problems.Add("$($cmd.Name): parameter -$($p.Name) is not described") }
        $descriptions[$p.Name] = [string]$text
    }
    foreach ($documented in $parameterDocs.Keys) {
        if ($documented.TrimStart('-') -notin $parameters.Name) { $problems.Add("$($cmd.Name): page describes -$($documented.TrimStart('-')), which the command does not have") }
    }

    $writer.WriteStartElement('command', 'command', $command)
    $writer.WriteAttributeString('xmlns', 'maml', $null, $maml)
    $writer.WriteAttributeString('xmlns', 'dev', $null, $dev)
    $writer.WriteStartElement('command', 'details', $command)
    $writer.WriteElementString('command', 'name', $command, $cmd.Name)
    $writer.WriteElementString('command', 'verb', $command, $cmd.Verb)
    $writer.WriteElementString('command', 'noun', $command, $cmd.Noun)
    Add-Paragraphs $writer @($synopsis)
    $writer.WriteEndElement()
    Add-Paragraphs $writer $description

    $writer.WriteStartElement('command', 'syntax', $command)
    foreach ($set in $cmd.ParameterSets) {
        $writer.WriteStartElement('command', 'syntaxItem', $command)
        $writer.WriteElementString('maml', 'name', $maml, $cmd.Name)
        $ordered = $set.Parameters | Where-Object { $_.Name -notin $commonParameters } |
            Sort-Object @{ Expression = { $_.Position -lt 0 ? [int]::MaxValue : $_.Position } }, @{ Expression = { -not $_.IsMandatory } }, Name
        foreach ($sp in $ordered) { Write-Parameter $writer $cmd.Parameters[$sp.Name] $descriptions[$sp.Name] $sp }
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'parameters', $command)
    foreach ($p in $parameters | Sort-Object Name) { Write-Parameter $writer $p $descriptions[$p.Name] $null }
    $writer.WriteEndElement()

    foreach ($kind in @(@{ Section = 'INPUTS'; List = 'inputTypes'; Item = 'inputType' }, @{ Section = 'OUTPUTS'; List = 'returnValues'; Item = 'returnValue' })) {
        $writer.WriteStartElement('command', $kind.List, $command)
        $entries = if ($page.Subsections.Contains($kind.Section)) { $page.Subsections[$kind.Section] } else { @{} }
        foreach ($typeName in $entries.Keys) {
            $writer.WriteStartElement('command', $kind.Item, $command)
            $writer.WriteStartElement('dev', 'type', $dev)
            $writer.WriteElementString('maml', 'name', $maml, $typeName)
            $writer.WriteEndElement()
            Add-Paragraphs $writer (Get-Paragraphs $entries[$typeName])
            $writer.WriteEndElement()
        }
        $writer.WriteEndElement()
    }

    if ($page.Sections.Contains('NOTES')) {
        $writer.WriteStartElement('maml', 'alertSet', $maml)
        $writer.WriteStartElement('maml', 'alert', $maml)
        foreach ($p in Get-Paragraphs $page.Sections['NOTES']) { $writer.WriteElementString('maml', 'para', $maml, $p) }
        $writer.WriteEndElement()
        $writer.WriteEndElement()
    }

    $writer.WriteStartElement('command', 'examples', $command)
    foreach ($title in $examples.Keys) {
        $example = Split-Example $examples[$title]
        if (-not $example.Code) { $problems.Add("$($cmd.Name): '$title' has no code block") }
        $writer.WriteStartElement('command', 'example', $command)
        $writer.WriteElementString('maml', 'title', $maml, "-------------------------- $title --------------------------")
        $writer.WriteElementString('dev', 'code', $dev, $example.Code)
        $writer.WriteStartElement('dev', 'remarks', $dev)
        foreach ($p in $example.Remarks) { $writer.WriteElementString('maml', 'para', $maml, $p) }
        $writer.WriteEndElement()
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'relatedLinks', $command)
    if ($page.Sections.Contains('RELATED LINKS')) {
        foreach ($line in $page.Sections['RELATED LINKS']) {
            if ($line -match '\[([^\]]+)\]\(([^)]*)\)') {
                $writer.WriteStartElement('maml', 'navigationLink', $maml)
                $writer.WriteElementString('maml', 'linkText', $maml, $Matches[1])
                $writer.WriteElementString('maml', 'uri', $maml, ($Matches[2] -match '^https?://' ? $Matches[2] : ''))
                $writer.WriteEndElement()
            }
        }
    }
    $writer.WriteEndElement()
    $writer.WriteEndElement() # command
}
$writer.WriteEndElement()
$writer.WriteEndDocument()
$writer.Dispose()

# about_ topics: docs/about_*.md become plain text help.
foreach ($about in Get-ChildItem -Path $DocsPath -Filter 'about_*.md') {
    # Fence lines go first (before backticks are stripped), then headings become capitals.
    $text = (Get-Content -LiteralPath $about.FullName) | Where-Object { $_ -notmatch '^\s*```' } | ForEach-Object {
        $_ -replace '^#{1,2} (.+)$', { $_.Groups[1].Value.ToUpperInvariant() } -replace '^#{3,} ', '' -replace '`', ''
    }
    Set-Content -LiteralPath (Join-Path $OutputPath ($about.BaseName + '.help.txt')) -Value $text -Encoding utf8NoBOM
}

if ($problems.Count) {
    $problems | ForEach-Object { Write-Warning $_ }
    throw "Help is incomplete: $($problems.Count) problem(s) listed above."
}
Write-Host "Help written for $(@(Get-Command -Module $module.Name).Count) commands to $helpFile"
