"""Hardware identity: the readers and parsers behind ``Platform.hardware_facts()``.

One module per concern: ``junk`` (placeholder firmware values are unknown), ``values``
(sizes, speeds, dates), ``chassis`` (SMBIOS chassis type to form factor), ``virt``
(hypervisors from firmware strings), ``smbios`` (memory devices), and one reader per source
format: ``sysfs`` (Linux), ``cim`` (Windows, one PowerShell CIM query), ``profiler``
(macOS system_profiler, ioreg, sw_vers). The readers take injected roots or a command
runner and never check which OS they run on: ``agent.platform`` picks them. Nothing is
imported here, so a Linux agent never loads the Windows or macOS parsers.
"""
