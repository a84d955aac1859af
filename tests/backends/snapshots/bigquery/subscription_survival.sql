SELECT
  `t8`.`start_month`,
  `t8`.`months_since_start`,
  `t8`.`started`,
  `t8`.`surviving`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t8`.`surviving` AS FLOAT64), NULLIF(`t8`.`started`, 0)) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `survival_rate`
FROM (
  SELECT
    `t7`.`start_month`,
    `t7`.`months_since_start`,
    COUNT(`t7`.`subscription_id`) AS `started`,
    SUM(
      IF(
        (
          `t7`.`cancel_k` IS NULL
        )
        OR (
          `t7`.`cancel_k` > `t7`.`months_since_start`
        ),
        1,
        0
      )
    ) AS `surviving`
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t5`.`subscription_id`,
        `t5`.`customer_id`,
        `t5`.`product_id`,
        `t5`.`quantity`,
        `t5`.`unit_price`,
        `t5`.`cycle_unit`,
        `t5`.`cycle_interval`,
        `t5`.`status`,
        `t5`.`started_at`,
        `t5`.`cancelled_at`,
        `t5`.`cancel_reason`,
        `t5`.`next_delivery_on`,
        `t5`.`updated_at`,
        `t5`.`start_date`,
        `t5`.`cancel_date`,
        `t5`.`is_cancelled`,
        `t5`.`start_month`,
        `t5`.`start_idx`,
        `t5`.`cancel_k`,
        `t2`.`months_since_start`
      FROM (
        SELECT
          `t3`.`subscription_id`,
          `t3`.`customer_id`,
          `t3`.`product_id`,
          `t3`.`quantity`,
          `t3`.`unit_price`,
          `t3`.`cycle_unit`,
          `t3`.`cycle_interval`,
          `t3`.`status`,
          `t3`.`started_at`,
          `t3`.`cancelled_at`,
          `t3`.`cancel_reason`,
          `t3`.`next_delivery_on`,
          `t3`.`updated_at`,
          `t3`.`start_date`,
          `t3`.`cancel_date`,
          `t3`.`is_cancelled`,
          DATE_TRUNC(`t3`.`start_date`, MONTH) AS `start_month`,
          (
            (
              EXTRACT(year FROM `t3`.`start_date`) * 12
            ) + EXTRACT(month FROM `t3`.`start_date`)
          ) - 1 AS `start_idx`,
          IF(
            `t3`.`is_cancelled` = 1,
            (
              (
                (
                  EXTRACT(year FROM `t3`.`cancel_date`) * 12
                ) + EXTRACT(month FROM `t3`.`cancel_date`)
              ) - 1
            ) - (
              (
                (
                  EXTRACT(year FROM `t3`.`start_date`) * 12
                ) + EXTRACT(month FROM `t3`.`start_date`)
              ) - 1
            ),
            NULL
          ) AS `cancel_k`
        FROM (
          SELECT
            `t1`.`subscription_id`,
            `t1`.`customer_id`,
            `t1`.`product_id`,
            `t1`.`quantity`,
            `t1`.`unit_price`,
            `t1`.`cycle_unit`,
            `t1`.`cycle_interval`,
            `t1`.`status`,
            `t1`.`started_at`,
            `t1`.`cancelled_at`,
            `t1`.`cancel_reason`,
            `t1`.`next_delivery_on`,
            `t1`.`updated_at`,
            DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) AS `start_date`,
            DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) AS `cancel_date`,
            IF(
              (
                DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) IS NOT NULL
              )
              AND (
                DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
              ),
              1,
              0
            ) AS `is_cancelled`
          FROM `subscriptions` AS `t1`
          WHERE
            DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
        ) AS `t3`
      ) AS `t5`
      CROSS JOIN `memtable_1` AS `t2`
    ) AS `t6`
    WHERE
      (
        `t6`.`start_idx` + `t6`.`months_since_start`
      ) <= (
        (
          (
            EXTRACT(year FROM DATE(2026, 10, 31)) * 12
          ) + EXTRACT(month FROM DATE(2026, 10, 31))
        ) - 1
      )
  ) AS `t7`
  GROUP BY
    1,
    2
) AS `t8`
ORDER BY
  `t8`.`start_month` ASC NULLS LAST,
  `t8`.`months_since_start` ASC NULLS LAST
