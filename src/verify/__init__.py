"""verify: check that 1H NMR and HRMS data support an intended structure.

Data flows one way:
structure -> expectation; raw files -> spectrum -> peaks;
expectation + peaks -> evidence -> verdict -> report.
"""

__version__ = "0.1.0"
SCHEMA = "verify/3"  # 2: verdict "unchecked" without data, checked_by; 3: the 0-1 score
