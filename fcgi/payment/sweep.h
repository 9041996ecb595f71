/* gatehouse-payment --sweep (sweep.c): expired keys, old provider events. */
#ifndef PAY_SWEEP_H
#define PAY_SWEEP_H

int		 pay_cli_sweep(int, char *[]);

#endif
